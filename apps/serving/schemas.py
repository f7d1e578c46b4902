"""Request bodies of the OpenAI API subset the lab serves, and OpenAI-style errors.

Unknown fields are accepted and ignored (clients such as Open WebUI send many); wrong types and
out-of-range values become a 400 `invalid_request_error` naming the parameter, as OpenAI does.
"""
from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ServingError(Exception):
    """An error the API returns as {"error": {message, type, param, code}} with an HTTP status."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Message(_Lenient):
    role: str
    content: str | list | None = None

    def text(self) -> str:
        """String content, or the text parts of a multi-part message joined."""
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if isinstance(p, dict) and p.get("type") == "text")
        return self.content or ""


class _Sampling(_Lenient):
    model: str
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=-(2**63), le=2**63 - 1)  # OpenAI's seed is an int64
    stream: bool = False
    stream_options: dict | None = None
    n: int = Field(1, ge=1, le=1)  # one choice per request: generation on CPU is the bottleneck

    def stops(self) -> list[str]:
        if self.stop is None:
            return []
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop)
        if len(stops) > 4:
            raise ServingError(400, "Up to 4 stop sequences are allowed.", param="stop")
        return [s for s in stops if s]

    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.get("include_usage"))


class ChatRequest(_Sampling):
    messages: list[Message] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)


class CompletionRequest(_Sampling):
    prompt: str | list[str]
    max_tokens: int | None = Field(16, ge=1)  # OpenAI's default for /v1/completions


class EmbeddingRequest(_Lenient):
    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: str = "float"

    def texts(self) -> list[str]:
        items = [self.input] if isinstance(self.input, str) else list(self.input)
        if not items or not all(isinstance(i, str) for i in items):
            raise ServingError(400, "input must be a non-empty string or list of strings "
                                    "(token arrays are not supported by this server).", param="input")
        if any(not i.strip() for i in items):
            raise ServingError(400, "input must not contain empty strings.", param="input")
        if self.encoding_format not in ("float", "base64"):
            raise ServingError(400, "encoding_format must be 'float' or 'base64'.", param="encoding_format")
        return items


def parse(model_cls: type[BaseModel], raw: bytes) -> BaseModel:
    """Raw request body → validated request, or a ServingError(400) that says what is wrong."""
    try:
        data = json.loads(raw or b"")
    except RecursionError:  # e.g. [[[[…]]]] 100,000 deep: refused, the parser's stack is not ours to spend
        raise ServingError(400, "The JSON body is nested too deeply.") from None
    except ValueError:  # JSONDecodeError, bad UTF-8, an integer with more digits than Python parses
        raise ServingError(400, "We could not parse the JSON body of your request. (HINT: This likely means "
                                "you aren't using your HTTP library correctly.)") from None
    if not isinstance(data, dict):
        raise ServingError(400, "The request body must be a JSON object.")
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first.get("loc", ())) or None
        missing = first.get("type") == "missing"
        message = f"Missing required parameter: '{param}'." if missing else f"Invalid value for '{param}': {first.get('msg')}."
        raise ServingError(400, message, param=param, code="missing_required_parameter" if missing else "invalid_value") from None
