"""The rendered Kubernetes resources the deployment tests read: production and staging."""
import pytest

from tests.deploy.layout import K8S, render


@pytest.fixture(scope="module")
def production():
    return render(K8S)


@pytest.fixture(scope="module")
def staging():
    return render(K8S / "overlays" / "staging")
