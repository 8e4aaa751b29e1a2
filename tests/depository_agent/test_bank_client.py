"""The form body the agent POSTs to the bank's /service is exactly what urlencode writes (written faster)."""
from urllib.parse import parse_qsl, urlencode

from hypothesis import given, strategies as st

from depository_agent.bank_client import form_body

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(st.dictionaries(st.sampled_from(["serviceName", "platformNo", "reqData", "signature"]), TEXT))
def test_the_form_body_is_urlencodes(form):
    assert form_body(form) == urlencode(form)
    assert dict(parse_qsl(form_body(form), keep_blank_values=True)) == form
