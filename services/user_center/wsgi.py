"""gunicorn entry: ``gunicorn user_center.wsgi:app``."""
from user_center.app import create_app

app = create_app()
