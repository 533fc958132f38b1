"""Digital Post providers: the interface the sender uses, and the real NgDP REST client.

There is one real implementation, `NgdpClient`, which speaks Digitaliseringsstyrelsen's "Digital Post
REST API" (NgDP). The local simulator (server/post/simulator.py) speaks the same protocol over HTTP,
so tests and `make run` exercise this very client; `make_provider` only chooses the base URL and
the credentials.

The protocol as implemented here, and where each fact comes from:

- Base URL `https://api.digitalpost.dk/apis/v1` (test: `https://api.test.digitalpost.dk/apis/v1`).
  [NgDP OpenAPI 1.68.0 as generated into github.com/sjkp/digitalpost src/digitalpost/DigitalPostClient.cs;
  its README; KMD WorkZone's NgDP setup guide names both hosts.]
- Authentication is mutual TLS with the system's OCES (FOCES/VOCES) certificate. The calling system is
  identified by an `Authorization: Basic …` header whose credential is the base64 of two UUIDs joined
  by a colon. [sjkp/digitalpost README: "Authorization header is for identifying calling system, the
  actual auth is the mutual tls", with curl examples; Digitaliseringsstyrelsen's reference system
  (Digst.DigitalPost.SSLClient RestClient) sends its configured ApiKey as `Basic`.] That the two UUIDs
  are the system's id and its API key is our reading of those examples, not a documented fact; pass
  `api_key=None` and `system_id` is sent alone.
- Send: `POST memos/?memo-message-uuid=<messageUUID>` with the MeMo XML as the body, Content-Type
  `application/xml`; 201 Created answers a Receipt JSON {transmissionId, messageUUID, messageId,
  errorCode, errorMessage, timeStamp, receiptStatus}; 400/401/403 answer an ErrorMessage JSON
  {code, message, fieldErrors: [{resource, field, code, message, rejectedValue}]}; 503 when the
  service is unavailable. The parameter must equal the MeMo's MessageHeader/messageUUID.
  [DigitalPostClient.cs SendMemoAsync and the Receipt/ErrorMessage DTOs; reference system
  MeMoPushService.]
- Receipts: `GET receipts/?page=&size=` lists the ids of available receipts (PagingResultUUID
  {content: [uuid], number, size, totalElements, totalPages, previous, next}); `GET receipts/{id}`
  returns one Receipt; `DELETE receipts/{id}` removes it (204). [DigitalPostClient.cs
  ListAvailableReceiptsAsync, FetchReceiptAsync, DeleteReceiptAsync.]
- Recipient lookup: `GET contacts/?cprNumber=<10 digits>` or `?cvrNumber=<8 digits>` answers a search
  result {currentPage, totalPages, elementsOnPage, totalElements, contacts: [Contact]} where
  `contact.mailboxSubscription.publicRegistrationStatus` is UNKNOWN, REGISTERED, EXEMPT or CLOSED.
  [sjkp/digitalpost README (a real production answer); PublicRegistrationStatus enum in
  DigitalPostClient.cs; the API's generic "search any field by name" query parameters.]
- Inbound post (replies) for a recipient system: `GET memos/?page=&size=` lists ids of available
  messages (PagingResultUUID), `GET memos/{id}` returns the MeMo XML, `DELETE memos/{id}` removes it.
  [DigitalPostClient.cs ListAvailableMemosAsync, FetchMemoAsync, DeleteMemoAsync.]

Not found in any public source, so chosen here (the simulator answers the same way):
- How NgDP answers a messageUUID it already has: we treat 409 Conflict, or a 400/422 whose error code
  or message says "duplicate"/"already", as "duplicate".
- The receiptStatus values: the reference system's business receipts use COMPLETED, NOT_ALLOWED,
  INVALID and RECEIVED; we read COMPLETED as delivered, INVALID/NOT_ALLOWED/FAILED/REJECTED/ERROR as
  failed, SENT_TO_PRINT/PRINTED as "printed" (NgDP itself does not print; the simulator uses
  SENT_TO_PRINT for exempt recipients), and anything else (RECEIVED …) as not final: such receipts
  are deleted without being reported.
- A header carrying the CVR a SaaS sender acts for. NgDP registers a system with a `delegatedCVR`
  (MailSystemCommand in the OpenAPI), so the delegation may live in the system registration only;
  we send `X-On-Behalf-Of-CVR` when a delegated CVR is configured (the name can be changed).

How answers to a send are read: 2xx accepted; "already received" (above) duplicate; 5xx, timeouts,
connection errors, and the 4xx answers that are about our system rather than the letter (401, 403,
407, 408, 425, 429, and 404/405 from a wrong base URL) raise TransientError, so the outbox retries
with the same UUID instead of failing every letter on an expired certificate; any other 4xx is a
rejection with the provider's reason (ErrorMessage code, message and field errors).

CPR numbers: the contacts lookup must put the number in the query string. The number never goes into
an exception message or a log line written here; urllib3's debug line with the request URL is masked
by a filter installed below, and reasons quoted from the provider are masked with `mask_cpr`.
"""
from __future__ import annotations

import base64
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Literal, Protocol

import requests
from requests.adapters import HTTPAdapter

from server.logs import mask_cpr

log = logging.getLogger(__name__)

NGDP_BASE_URL = "https://api.digitalpost.dk/apis/v1"
NGDP_TEST_BASE_URL = "https://api.test.digitalpost.dk/apis/v1"
DELEGATED_CVR_HEADER = "X-On-Behalf-Of-CVR"  # our choice; see the module docstring

SendStatus = Literal["accepted", "duplicate", "rejected"]
ReceiptStatus = Literal["delivered", "failed", "printed"]

_DELIVERED = {"COMPLETED", "DELIVERED"}
_FAILED = {"INVALID", "NOT_ALLOWED", "FAILED", "REJECTED", "ERROR"}
_PRINTED = {"SENT_TO_PRINT", "PRINTED", "PHYSICAL_PRINT"}
_DUPLICATE_WORDS = re.compile(r"duplicate|already", re.IGNORECASE)
# 4xx answers that say nothing about the letter: the certificate, the system registration, a rate
# limit. Retrying later is right; failing every letter of a dispatch on an expired certificate is not.
_TRANSIENT_4XX = {401, 403, 407, 408, 425, 429}


class RecipientState(str, Enum):
    REGISTERED = "REGISTERED"  # can receive Digital Post
    EXEMPT = "EXEMPT"  # fritaget: send on paper
    CLOSED = "CLOSED"  # deceased person or closed company
    UNKNOWN = "UNKNOWN"  # no such contact in Digital Post


@dataclass(frozen=True)
class SendOutcome:
    status: SendStatus
    reason: str | None = None
    provider_reference: str | None = None  # NgDP's transmissionId


class TransientError(Exception):
    """Timeout, connection error, 5xx, or a 4xx about our system rather than the letter: try again later.

    The message never contains the request URL (a contacts lookup carries a CPR number in it).
    """


class ProviderError(Exception):
    """A non-retryable protocol error outside sending (e.g. a malformed lookup); safe to log."""


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    message_uuid: uuid.UUID
    status: ReceiptStatus
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    memo_xml: bytes
    reply_to: uuid.UUID | None
    received_at: datetime


class DigitalPostProvider(Protocol):
    def send(self, message_uuid: uuid.UUID, memo_xml: bytes) -> SendOutcome: ...

    def recipient_state(self, id_type: Literal["CPR", "CVR"], number: str) -> RecipientState: ...

    def fetch_receipts(self, limit: int = 500) -> list[Receipt]: ...

    def acknowledge_receipt(self, receipt_id: str) -> None: ...

    def fetch_inbound(self, limit: int = 100) -> list[InboundMessage]: ...

    def acknowledge_inbound(self, message_id: str) -> None: ...


class NgdpClient:
    """The NgDP REST client. Thread-safe: one instance is shared by the sending threads."""

    def __init__(
        self,
        base_url: str,
        *,
        cert: tuple[str, str] | None,
        system_id: str | None,
        delegated_cvr: str | None,
        api_key: str | None = None,
        timeout_s: float = 30,
        session: requests.Session | None = None,
        verify: bool | str = True,
        pool_size: int = 16,
        delegated_cvr_header: str = DELEGATED_CVR_HEADER,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout_s = timeout_s
        self.session = session if session is not None else _new_session(pool_size)
        if cert is not None:
            self.session.cert = cert
        if session is None:
            self.session.verify = verify
        self.session.headers.update(_identification_headers(system_id, api_key, delegated_cvr, delegated_cvr_header))

    # ------------------------------------------------------------------ sending

    def send(self, message_uuid: uuid.UUID, memo_xml: bytes) -> SendOutcome:
        response = self._request(
            "POST", "memos/", "sending a letter",
            params={"memo-message-uuid": str(message_uuid)},
            data=memo_xml,
            headers={"Content-Type": "application/xml", "Accept": "application/json"},
        )
        status = response.status_code
        if 200 <= status < 300:
            body = _json(response)
            reference = body.get("transmissionId") if isinstance(body, dict) else None
            return SendOutcome("accepted", provider_reference=str(reference) if reference else None)
        reason = _error_reason(response)
        if status == 409 or (status in (400, 422) and _DUPLICATE_WORDS.search(reason)):
            log.info("letter already at Digital Post", extra={"message_uuid": str(message_uuid)})
            return SendOutcome("duplicate", reason=reason)
        if status in (404, 405):  # the resource is missing: a wrong base URL, not a bad letter
            raise TransientError(f"sending a letter: Digital Post answered HTTP {status}: {reason}")
        self._raise_if_transient(response, "sending a letter", reason)
        log.warning("letter rejected by Digital Post",
                    extra={"message_uuid": str(message_uuid), "status": status, "reason": reason})
        return SendOutcome("rejected", reason=reason)

    # ------------------------------------------------------------------ recipients

    def recipient_state(self, id_type: Literal["CPR", "CVR"], number: str) -> RecipientState:
        digits = re.sub(r"\D", "", number or "")
        if id_type == "CPR" and len(digits) == 10:
            params = {"cprNumber": digits}
        elif id_type == "CVR" and len(digits) == 8:
            params = {"cvrNumber": digits}
        else:
            raise ProviderError(f"recipient lookup needs a 10-digit CPR or an 8-digit CVR number ({id_type})")
        response = self._request("GET", "contacts/", "looking up a recipient", params=params,
                                 headers={"Accept": "application/json"}, secret=digits)
        if response.status_code == 404:
            return RecipientState.UNKNOWN
        if response.status_code != 200:
            reason = _scrub(_error_reason(response), digits)
            self._raise_if_transient(response, "looking up a recipient", reason)
            raise ProviderError(f"looking up a recipient: HTTP {response.status_code}: {reason}")
        body = _json(response)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not contacts:
            return RecipientState.UNKNOWN
        subscription = (contacts[0] or {}).get("mailboxSubscription") or {}
        try:
            return RecipientState(subscription.get("publicRegistrationStatus") or "UNKNOWN")
        except ValueError:
            return RecipientState.UNKNOWN

    # ------------------------------------------------------------------ receipts

    def fetch_receipts(self, limit: int = 500) -> list[Receipt]:
        receipts: list[Receipt] = []
        for receipt_id in self._list_ids("receipts/", limit, "listing receipts"):
            response = self._request("GET", f"receipts/{receipt_id}", "fetching a receipt",
                                     headers={"Accept": "application/json"})
            if response.status_code == 404:
                continue  # taken by another worker meanwhile
            self._expect_ok(response, "fetching a receipt")
            receipt = _parse_receipt(receipt_id, _json(response))
            if receipt is None:
                self.acknowledge_receipt(receipt_id)  # not final (RECEIVED …): nothing to record
                continue
            receipts.append(receipt)
        return receipts

    def acknowledge_receipt(self, receipt_id: str) -> None:
        response = self._request("DELETE", f"receipts/{_id_segment(receipt_id)}", "acknowledging a receipt")
        if response.status_code not in (200, 202, 204, 404):  # 404: already acknowledged
            self._expect_ok(response, "acknowledging a receipt")

    # ------------------------------------------------------------------ inbound post

    def fetch_inbound(self, limit: int = 100) -> list[InboundMessage]:
        from server.post.memo import read_memo

        messages: list[InboundMessage] = []
        for message_id in self._list_ids("memos/", limit, "listing inbound post"):
            response = self._request("GET", f"memos/{message_id}", "fetching inbound post",
                                     headers={"Accept": "application/xml"})
            if response.status_code == 404:
                continue
            self._expect_ok(response, "fetching inbound post")
            xml = response.content
            try:
                reply_to = _as_uuid(read_memo(xml).reply_to)
            except Exception:  # an unreadable message is still fetched and filed; it just answers nothing
                log.warning("inbound message could not be read as MeMo", extra={"message_id": message_id})
                reply_to = None
            messages.append(InboundMessage(message_id, xml, reply_to, _received_at(response)))
        return messages

    def acknowledge_inbound(self, message_id: str) -> None:
        response = self._request("DELETE", f"memos/{_id_segment(message_id)}", "acknowledging inbound post")
        if response.status_code not in (200, 202, 204, 404):
            self._expect_ok(response, "acknowledging inbound post")

    # ------------------------------------------------------------------ HTTP

    def close(self) -> None:
        self.session.close()

    def _list_ids(self, path: str, limit: int, what: str) -> list[str]:
        ids: list[str] = []
        page = 0
        while len(ids) < limit:
            size = min(limit - len(ids), 1000)
            response = self._request("GET", path, what, params={"page": page, "size": size},
                                     headers={"Accept": "application/json"})
            self._expect_ok(response, what)
            body = _json(response)
            content = body.get("content") if isinstance(body, dict) else None
            if not content:
                break
            ids.extend(_id_segment(str(item.get("id") if isinstance(item, dict) else item)) for item in content)
            total_pages = body.get("totalPages")
            page += 1
            if len(content) < size or (isinstance(total_pages, int) and page >= total_pages):
                break
        return ids[:limit]

    def _request(self, method: str, path: str, what: str, *, secret: str | None = None, **kwargs) -> requests.Response:
        """One HTTP request; transport failures become TransientError without the URL in the message."""
        try:
            return self.session.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        except requests.Timeout:
            error = TransientError(f"{what}: no answer from Digital Post within {self.timeout_s:g} s")
        except requests.ConnectionError as exc:
            error = TransientError(f"{what}: could not connect to Digital Post ({_exception_kind(exc)})")
        except requests.RequestException as exc:
            error = TransientError(f"{what}: request failed ({type(exc).__name__})")
        # Raised outside the except block so the requests exception (whose text carries the URL,
        # query string and all) is neither the cause nor the context of ours.
        raise error

    def _raise_if_transient(self, response: requests.Response, what: str, reason: str) -> None:
        status = response.status_code
        if status >= 500 or status in _TRANSIENT_4XX or status < 200 or 300 <= status < 400:
            raise TransientError(f"{what}: Digital Post answered HTTP {status}" + (f": {reason}" if reason else ""))

    def _expect_ok(self, response: requests.Response, what: str) -> None:
        if 200 <= response.status_code < 300:
            return
        reason = _error_reason(response)
        self._raise_if_transient(response, what, reason)
        raise ProviderError(f"{what}: Digital Post answered HTTP {response.status_code}: {reason}")


def make_provider(settings) -> NgdpClient:
    """The provider the settings ask for: the simulator (default) or NgDP itself."""
    kind = (settings.post_provider or "simulator").lower()
    if kind == "simulator":
        base_url = settings.post_api_url or f"http://127.0.0.1:{settings.simulator_port}/apis/v1"
        return NgdpClient(base_url, cert=None, system_id=settings.ngdp_system_id or "sagspost-simulator",
                          api_key=settings.ngdp_api_key or None, delegated_cvr=settings.ngdp_delegated_cvr or None,
                          timeout_s=settings.post_timeout_s)
    if kind == "ngdp":
        if not (settings.ngdp_cert_file and settings.ngdp_key_file):
            raise ValueError("SAGSPOST_NGDP_CERT_FILE and SAGSPOST_NGDP_KEY_FILE are needed for post_provider=ngdp")
        if not settings.ngdp_system_id:
            raise ValueError("SAGSPOST_NGDP_SYSTEM_ID is needed for post_provider=ngdp")
        return NgdpClient(settings.post_api_url or NGDP_BASE_URL, cert=(settings.ngdp_cert_file, settings.ngdp_key_file),
                          system_id=settings.ngdp_system_id, api_key=settings.ngdp_api_key or None,
                          delegated_cvr=settings.ngdp_delegated_cvr or None, timeout_s=settings.post_timeout_s,
                          verify=settings.ngdp_ca_file or True)
    raise ValueError(f"unknown post_provider {settings.post_provider!r} (simulator or ngdp)")


# ---------------------------------------------------------------------- helpers


def _new_session(pool_size: int) -> requests.Session:
    session = requests.Session()
    # Proxies and certificates come from the settings, not the environment; reading the
    # environment again on every request cost 8 % of a sending worker's time.
    session.trust_env = False
    # One pool per host, big enough that ~16 sending threads each keep a connection alive; no
    # automatic retries: the outbox retries with the same messageUUID and its own backoff.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1), max_retries=0, pool_block=False)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": "Sagspost", "Accept": "application/json"})
    return session


def _identification_headers(system_id, api_key, delegated_cvr, delegated_cvr_header) -> dict[str, str]:
    headers: dict[str, str] = {}
    if system_id:
        credential = f"{system_id}:{api_key}" if api_key else str(system_id)
        headers["Authorization"] = "Basic " + base64.b64encode(credential.encode()).decode("ascii")
    if delegated_cvr:
        headers[delegated_cvr_header] = str(delegated_cvr)
    return headers


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _error_reason(response: requests.Response) -> str:
    """The provider's reason from an ErrorMessage body (code, message, field errors), CPR-masked."""
    body = _json(response)
    parts: list[str] = []
    if isinstance(body, dict):
        code, message = body.get("code"), body.get("message") or body.get("errorMessage")
        if code and message:
            parts.append(f"{code}: {message}")
        elif code or message:
            parts.append(str(code or message))
        for field_error in body.get("fieldErrors") or []:
            if isinstance(field_error, dict):
                text = field_error.get("message") or field_error.get("code")
                field = field_error.get("field")
                if text:
                    parts.append(f"{field}: {text}" if field else str(text))
    elif response.text and "json" not in response.headers.get("Content-Type", ""):
        parts.append(response.text.strip()[:300])
    reason = "; ".join(parts) or (response.reason or f"HTTP {response.status_code}")
    return mask_cpr(reason[:2000])


def _scrub(text: str, secret: str) -> str:
    return mask_cpr(text.replace(secret, "x" * len(secret))) if secret else mask_cpr(text)


def _exception_kind(exc: Exception) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "resolve" in text or "nodename" in text:
        return "host name not found"
    if "ssl" in text or "certificate" in text:
        return "TLS error"
    if "reset" in text or "aborted" in text or "remote end closed" in text:
        return "connection dropped"
    return type(exc).__name__


def _parse_receipt(receipt_id: str, body) -> Receipt | None:
    if not isinstance(body, dict):
        raise ProviderError("fetching a receipt: the answer is not a receipt")
    raw_status = str(body.get("receiptStatus") or "").upper()
    if raw_status in _DELIVERED:
        status: ReceiptStatus = "delivered"
    elif raw_status in _PRINTED:
        status = "printed"
    elif raw_status in _FAILED:
        status = "failed"
    else:
        return None
    try:
        message_uuid = uuid.UUID(str(body.get("messageUUID")))
    except ValueError:
        raise ProviderError("fetching a receipt: the receipt has no valid messageUUID") from None
    code, message = body.get("errorCode"), body.get("errorMessage")
    reason = ": ".join(str(part) for part in (code, message) if part) or None
    return Receipt(receipt_id, message_uuid, status, mask_cpr(reason) if reason else None,
                   _parse_time(body.get("timeStamp")))


def _parse_time(value) -> datetime:
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


def _received_at(response: requests.Response) -> datetime:
    header = response.headers.get("Last-Modified")
    if header:
        try:
            return parsedate_to_datetime(header).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc)


def _as_uuid(value) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def _id_segment(value: str) -> str:
    """Ids from the provider go into URL paths: only plain ones."""
    if not _ID.fullmatch(value or ""):
        raise ProviderError("Digital Post answered an id that is not a plain identifier")
    return value


class _MaskCprInUrllib3(logging.Filter):
    """urllib3 logs each request line (with the query string) at DEBUG: mask CPR numbers in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_cpr(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask_cpr(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = mask_cpr(record.msg)
        return True


def _install_log_filter() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _MaskCprInUrllib3) for f in logger.filters):
        logger.addFilter(_MaskCprInUrllib3())


_install_log_filter()
