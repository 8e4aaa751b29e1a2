"""gunicorn entry: ``gunicorn bank_callback.wsgi:app``."""
from bank_callback.bootstrap import create_app

app = create_app()
