"""gunicorn entry: ``gunicorn beanpay_ledger.wsgi:app``."""
from beanpay_ledger.bootstrap import create_app

app = create_app()
