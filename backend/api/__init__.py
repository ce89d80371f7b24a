"""The HTTP face of the backend: routes, their dependencies, identity, problems and JSON shapes."""
