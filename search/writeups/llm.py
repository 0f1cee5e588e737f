"""The chat model: one narrow interface, one implementation over the `openai` client (OpenAI or any
OpenAI-compatible server: Ollama, llama.cpp, vLLM). Errors become one-line reasons, never tracebacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol
from urllib.parse import urlparse

from ..config import Settings, is_loopback
from ..errors import OnrecordError

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


class LLMError(OnrecordError):
    """The model could not be reached or gave nothing usable; callers fall back to extractive results."""


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


class ChatModel(Protocol):
    name: str
    host: str  # where the prompts go
    remote: bool  # beyond this machine: excerpts of the transcripts leave it

    def complete(self, messages: list[Message], *, max_tokens: int = 512) -> str: ...

    def stream(self, messages: list[Message], *, max_tokens: int = 512) -> Iterator[str]: ...


def chat_model_for(settings: Settings) -> tuple[ChatModel | None, str | None]:
    """The configured model, or None and the one-line reason there is none. The one place a chat model is built:
    whatever building it raises (a client library that changed under us, a malformed URL) becomes that reason, so
    every surface falls back to extractive answers instead of failing."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    model = settings.llm_model or (DEFAULT_OPENAI_MODEL if key and not settings.llm_base_url else None)
    if not model:
        if settings.llm_base_url:
            return None, "LLM server set but no model: set ONRECORD_LLM_MODEL"
        return None, "no LLM configured (set ONRECORD_LLM_MODEL and ONRECORD_LLM_BASE_URL or OPENAI_API_KEY)"
    try:
        return OpenAIChat(model, base_url=settings.llm_base_url, api_key=key, timeout=settings.llm_timeout,
                          max_retries=settings.llm_max_retries), None
    except Exception as exc:  # noqa: BLE001 - any construction failure means "no model", said in one line
        return None, f"LLM error: cannot use {model} ({_reason(exc)})"


def _reason(exc: BaseException) -> str:
    """An exception as a short phrase for a one-line message: its type and first line, never a traceback."""
    first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__


class OpenAIChat:
    def __init__(self, name: str, *, base_url: str | None, api_key: str | None, timeout: float, max_retries: int):
        import openai

        self.name = name
        self.host = (urlparse(base_url).hostname or base_url) if base_url else "api.openai.com"
        self.remote = not is_loopback(self.host)
        self._openai = openai
        # Local servers need no key, but the client insists on one. The timeout is the client's own Timeout type
        # (httpx's in openai 1.x and 2.x, httpx2's in 3.x): an httpx object handed to openai 3 breaks the client.
        self._client = openai.OpenAI(api_key=api_key or "no-key", base_url=base_url,
                                     timeout=openai.Timeout(timeout, connect=5.0), max_retries=max_retries)

    def complete(self, messages: list[Message], *, max_tokens: int = 512) -> str:
        with self._errors():
            response = self._client.chat.completions.create(
                model=self.name, messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=max_tokens, temperature=0.2)
            try:
                text = response.choices[0].message.content
            except (AttributeError, IndexError, TypeError):
                text = None
        if not isinstance(text, str) or not text.strip():
            raise LLMError("LLM error: the server returned no answer text")
        return text

    def stream(self, messages: list[Message], *, max_tokens: int = 512) -> Iterator[str]:
        with self._errors():
            chunks = self._client.chat.completions.create(
                model=self.name, messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=max_tokens, temperature=0.2, stream=True)
            for chunk in chunks:
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta

    def _errors(self):
        return _translate_errors(self._openai)


def sent_to(chat: ChatModel | None) -> str | None:
    """The line every answer and write-up made with a remote model carries, so nothing leaves unseen."""
    if chat is None or not chat.remote:
        return None
    return f"written with {chat.name} at {chat.host}: excerpts of the transcripts were sent there"


def with_notice(*notices: str | None) -> str | None:
    return "; ".join(n for n in notices if n) or None


class _translate_errors:
    """openai's exceptions -> one-line LLMError reasons (the key never appears in them)."""

    def __init__(self, openai):
        self.openai = openai

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, LLMError):
            return False
        o = self.openai
        if isinstance(exc, o.APITimeoutError):
            raise LLMError("LLM error: the server timed out") from exc
        if isinstance(exc, o.APIConnectionError):
            raise LLMError("LLM error: cannot connect to the server") from exc
        if isinstance(exc, o.AuthenticationError):
            raise LLMError("LLM error: 401 unauthorized (check the API key)") from exc
        if isinstance(exc, o.APIStatusError):
            raise LLMError(f"LLM error: the server answered {exc.status_code}") from exc
        if isinstance(exc, (o.APIError, ValueError, KeyError, TypeError, AttributeError)):
            raise LLMError(f"LLM error: malformed response ({exc.__class__.__name__})") from exc
        if isinstance(exc, Exception):  # a client that fails in a way no release documented: still one line
            raise LLMError(f"LLM error: the client failed ({_reason(exc)})") from exc
        return False
