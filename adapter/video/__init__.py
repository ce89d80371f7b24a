"""The upscaling pipeline of a video: decode, stage threads, encode, mux, assembly and proxies."""
