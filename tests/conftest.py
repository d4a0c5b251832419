"""Suite-wide test settings."""
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The suite's tensors are small: extra intra-op threads only spin-wait on a 2-core
    machine (measured 11 s vs 78 s for the MLP test under load). Results do not depend
    on the thread count."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
