"""The chat endpoint through gradio_client, as a script or notebook would use it."""
import pytest
from gradio_client import Client


@pytest.fixture(scope="module")
def client(live_url):
    return Client(live_url, verbose=False)


def test_chat_endpoint_streams(client, smollm):
    job = client.submit("What is the capital of France?", [], "smollm2-135m-instruct", "", 12, 0, 0, "en",
                        api_name="/chat")
    final = job.result(timeout=300)
    partials = job.outputs()
    assert "Paris" in final
    assert len(partials) >= 2 and all(final.startswith(p) for p in partials)


def test_chat_endpoint_errors_and_keeps_serving(client):
    with pytest.raises(Exception, match="Unknown model"):
        client.predict("hi", [], "no-such-model", api_name="/chat")
    with pytest.raises(Exception, match="提示词是空的"):
        client.predict("  ", [], "smollm2-135m-instruct", "", 8, 0, 0, "zh", api_name="/chat")
    assert client.predict("Say OK", [], "smollm2-135m-instruct", "", 4, 0, 0, "en", api_name="/chat")
