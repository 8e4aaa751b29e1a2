"""Each ledger endpoint answers GET with query parameters and POST with a JSON or form body.

A GET here may change the books (beanpay's curl examples post with GET), so HEAD, which Flask adds to
every GET route, is refused with 405 rather than run as a GET.
"""
from typing import Callable

from flask.views import MethodView

from shared.auth import require_service_token
from shared.web import Blueprint, refuse_head

from beanpay_ledger.schemas import ErrorBodySchema

AUTH_AND_INPUT_ERRORS = (400, 401)


class LedgerBlueprint(Blueprint):
    """Service-token protected, HEAD refused; ``json_or_form`` bodies are documented as JSON request bodies."""

    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "json_or_form": "application/json"}

    def __init__(self, name: str, import_name: str, **kwargs):
        super().__init__(name, import_name, **kwargs)
        self.before_request(refuse_head)  # first: a HEAD is never run, with or without a token
        self.before_request(require_service_token)

    def endpoint(self, path: str, args_schema, ok_schema, successes=(200,), errors=()) -> Callable:
        """Register ``handler(args)`` at ``path`` for GET (query) and POST (JSON or form body)."""

        def decorator(handler: Callable) -> Callable:
            def get(view, args):
                return handler(args)

            def post(view, args):
                return handler(args)

            methods = {}
            for method, location in ((get, "query"), (post, "json_or_form")):
                method.__doc__ = handler.__doc__
                documented = self.arguments(args_schema, location=location)(method)
                for status in successes:
                    documented = self.alt_response(status, schema=ok_schema, success=True)(documented)
                for status in (*AUTH_AND_INPUT_ERRORS, *errors):
                    documented = self.alt_response(status, schema=ErrorBodySchema)(documented)
                methods[method.__name__] = documented
            view = type(handler.__name__, (MethodView,), methods)
            self.route(path, endpoint=handler.__name__)(view)
            return handler

        return decorator
