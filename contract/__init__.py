"""Wire contract shared by backend and adapter: messages, queue topology, storage layout."""
