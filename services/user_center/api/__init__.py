"""user-center's HTTP API: marshmallow schemas and the blueprints that use them."""
