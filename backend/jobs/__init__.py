"""Jobs: the database model, the state rules, the store, cancels and the migrations."""
