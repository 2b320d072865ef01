"""Web layer of the training system: blueprints, forms, the server-side session interface."""
