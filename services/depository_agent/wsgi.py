"""gunicorn entry: ``gunicorn depository_agent.wsgi:app``."""
from depository_agent.bootstrap import create_app

app = create_app()
