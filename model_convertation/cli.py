"""`python -m model_convertation build|serve`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

from contract.precision import PRECISIONS
from model_convertation import catalog, paths, repository, tensorrt
from model_convertation.builder import build_cpu, build_gpu, build_int8_variants, build_onnx
from model_convertation.ncnn import NcnnFormatError
from model_convertation.server import TritonServer, TritonStartError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model_convertation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="ncnn weights → ONNX → Triton repository (CPU) or TensorRT (GPU)"
    )
    build.add_argument("--target", choices=["cpu", "gpu"], default="cpu")
    build.add_argument(
        "--models", default="", help=f"comma-separated; default all: {','.join(catalog.MODELS)}"
    )
    build.add_argument("--onnx-dir", type=Path, default=paths.ONNX_DIR)
    build.add_argument("--repo", type=Path, default=paths.REPOSITORY)
    build.add_argument("--onnx-only", action="store_true", help="stop after writing the ONNX files")
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.add_argument("--max-batch-size", type=int, default=8)
    build.add_argument("--max-queue-delay-us", type=int, default=100)
    build.add_argument("--instances", type=int, default=1, help="model instances (GPU: per GPU)")
    build.add_argument(
        "--runtime", choices=["openvino", "onnxruntime"], default="openvino", help="CPU target"
    )
    build.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default="auto",
        help="auto: bf16 on CPUs with native bf16, else int8 where its quality gate passed, else f32 "
        "(int8: quantize and gate every model built; GPU: int8 engines from the QDQ graphs)",
    )
    build.add_argument("--threads", type=int, default=0, help="CPU target: inference threads, 0 = all cores")
    build.add_argument(
        "--hint",
        choices=["throughput", "latency"],
        default="throughput",
        help="CPU target: OpenVINO performance hint (throughput splits a batch across streams)",
    )
    build.add_argument(
        "--streams", type=int, default=0, help="CPU target: OpenVINO streams, 0 = one per core"
    )
    build.add_argument(
        "--resolutions",
        default="640x360,1280x720,1920x1080",
        help="GPU target: input frame sizes WxH the engine profile must cover",
    )
    build.add_argument("--workspace-gib", type=float, default=4.0, help="GPU target: TensorRT workspace")
    serve = commands.add_parser("serve", help="run the bundled tritonserver on a repository (CPU)")
    serve.add_argument("--repo", type=Path, default=paths.REPOSITORY)
    serve.add_argument("--http-port", type=int, default=8000)
    serve.add_argument("--grpc-port", type=int, default=8001)
    serve.add_argument("--metrics-port", type=int, default=8002)
    serve.add_argument(
        "--models", default="", help="load only these (comma-separated); default all in the repo"
    )
    serve.add_argument("--address", default="127.0.0.1", help="listen address (0.0.0.0 in containers)")
    serve.add_argument("--log-file", type=Path, default=None)
    serve.add_argument("--ready-timeout", type=float, default=300.0)
    return parser


def _build(args: argparse.Namespace) -> None:
    specs = catalog.select(args.models)
    options = repository.ServingOptions(
        max_batch_size=args.max_batch_size,
        max_queue_delay_us=args.max_queue_delay_us,
        instances=args.instances,
        runtime=args.runtime,
        precision=args.precision,
        threads=args.threads,
        hint=args.hint,
        streams=args.streams,
    )
    if args.max_batch_size < 1 or args.instances < 1:
        raise ValueError("--max-batch-size and --instances must be at least 1")
    if args.target == "gpu":
        resolutions = [
            tensorrt.Resolution.parse(item) for item in args.resolutions.split(",") if item.strip()
        ]
        build_gpu(
            specs,
            args.onnx_dir,
            args.repo,
            options,
            resolutions,
            force=args.force,
            workspace_gib=args.workspace_gib,
        )
    elif args.onnx_only:
        build_int8_variants(specs, build_onnx(specs, args.onnx_dir, force=args.force), args.precision)
    else:
        build_cpu(specs, args.onnx_dir, args.repo, options, force=args.force)


def _serve(args: argparse.Namespace) -> None:
    models = [name for name in args.models.split(",") if name] or None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with TritonServer(
        args.repo,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        metrics_port=args.metrics_port,
        models=models,
        log_path=args.log_file,
        ready_timeout_s=args.ready_timeout,
        address=args.address,
    ) as server:
        print(
            f"tritonserver ready: grpc {server.grpc_url}, http {server.http_url}, log {server.log_path}",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point; one-line errors and a non-zero exit status for expected failures."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        _build(args) if args.command == "build" else _serve(args)
    except tensorrt.TargetUnavailable as exc:
        print(f"error: GPU target unavailable: {exc}", file=sys.stderr)
        return 3
    except (KeyError, ValueError, FileNotFoundError, NcnnFormatError, TritonStartError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0
