"""gunicorn entry: ``gunicorn user_center.wsgi:app``."""
from user_center.bootstrap import create_app

app = create_app()
