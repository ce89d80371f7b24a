"""Set-up only: fetching and converting the description's models (run by make models)."""
