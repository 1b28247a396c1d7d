"""Configuration from the environment (and ``.env``), read once at start-up.

The variable names are a contract with operators; keep them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./amends.db"
DEFAULT_CADENCE = "SEV1=30m,SEV2=60m,SEV3=120m"
DEFAULT_TIERS = "premium=15m,standard=60m"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``30m`` or ``1.5h``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m or 2h")
    value = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if value <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=value)


def _named_durations(text: str, what: str, example: str, upper: bool) -> dict[str, timedelta]:
    """Parse ``NAME=DURATION,…`` into an ordered map (names upper- or lower-cased)."""
    named: dict[str, timedelta] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, duration = part.partition("=")
        name = name.strip().upper() if upper else name.strip().lower()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", name):
            raise ValueError(f"{part!r} is not {what.upper()}=DURATION (e.g. {example})")
        if name in named:
            raise ValueError(f"{what} {name} is listed twice")
        named[name] = parse_duration(duration)
    if not named:
        raise ValueError(f"no {what} given (e.g. {example})")
    return named


def parse_cadence(text: str) -> dict[str, timedelta]:
    """Parse ``SEV1=30m,SEV2=60m,SEV3=120m`` into an ordered severity → cadence map."""
    return _named_durations(text, "severity", "SEV1=30m,SEV2=60m,SEV3=120m", upper=True)


def parse_tiers(text: str) -> dict[str, timedelta]:
    """Parse ``premium=15m,standard=60m``: how soon each tier must be contacted directly."""
    return _named_durations(text, "tier", DEFAULT_TIERS, upper=False)


def check_smtp_url(url: str) -> str:
    """``smtp://[user:pass@]host[:port]`` (STARTTLS when offered) or ``smtps://`` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must look like smtp://user:pass@host:587 or smtps://host:465")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return url


def normalise_database_url(url: str) -> str:
    """Pick the async driver for plain ``sqlite://`` and ``postgresql://`` URLs."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    raise ValueError("must start with sqlite:// or postgresql:// (e.g. sqlite:///./amends.db)")


class Settings(BaseSettings):
    """Everything Amends reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str = Field(min_length=1)
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_state_secret: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=0, le=65535)
    """0 picks a free port (tests)."""
    broadcast_channel: str | None = None
    customer_update_cadence: Annotated[dict[str, timedelta], NoDecode] = Field(
        default_factory=lambda: parse_cadence(DEFAULT_CADENCE)
    )
    default_severity: str = "SEV2"
    customer_channel: str | None = None
    reminder_grace: Annotated[timedelta | None, NoDecode] = None
    reminder_sweep_seconds: float = Field(default=30.0, gt=0)
    reminder_lease_seconds: float = Field(default=60.0, gt=0)
    admin_users: Annotated[frozenset[str], NoDecode] = frozenset()
    archive_on_close: bool = False
    follow_up_days: int = Field(default=7, ge=0, le=365)
    follow_up_reminder: Annotated[timedelta, NoDecode] = timedelta(hours=24)
    outbox_retry_seconds: float = Field(default=10.0, gt=0)
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    playbooks_dir: Path | None = None
    """A directory of playbook YAML files; unset, the examples shipped with Amends."""
    customer_tiers: Annotated[dict[str, timedelta], NoDecode] = Field(
        default_factory=lambda: parse_tiers(DEFAULT_TIERS)
    )
    """How soon after the declare (or being added) a customer of each tier must have been
    contacted directly; the first tier listed reminds the comms owner when it runs out."""
    smtp_url: str | None = None
    smtp_from: str | None = None
    public_url: str | None = None
    """Where people reach ``PORT`` from outside (``https://status.example.com``): the base of
    the links the status page, its feed and the customer pages write."""
    status_page_title: str = Field(default="Service status", min_length=1, max_length=200)
    status_page_team: str | None = None
    """The workspace whose incidents ``/status`` shows; needed with OAuth (many workspaces)."""

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator(
        "slack_client_id", "slack_client_secret", "slack_state_secret", "status_page_team"
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url")
    @classmethod
    def _public_url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://status.example.com")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("reminder_grace", mode="before")
    @classmethod
    def _grace_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("follow_up_reminder", mode="before")
    @classmethod
    def _follow_up_reminder_shape(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("admin_users", mode="before")
    @classmethod
    def _admin_users_shape(cls, value: object) -> object:
        """``U123,U456`` (spaces allowed); each must look like a Slack user id."""
        if not isinstance(value, str):
            return value
        ids = frozenset(filter(None, (part.strip() for part in value.split(","))))
        bad = sorted(i for i in ids if not SLACK_USER_ID.fullmatch(i))
        if bad:
            raise ValueError(f"{bad[0]!r} is not a Slack user id like U012ABCDEF")
        return ids

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("playbooks_dir", mode="before")
    @classmethod
    def _blank_dir_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("broadcast_channel", "customer_channel")
    @classmethod
    def _channel_shape(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("customer_tiers", mode="before")
    @classmethod
    def _tiers_shape(cls, value: object) -> object:
        return parse_tiers(value) if isinstance(value, str) else value

    @field_validator("smtp_url", "smtp_from")
    @classmethod
    def _blank_mail_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_shape(cls, value: str | None) -> str | None:
        return check_smtp_url(value) if value else None

    @field_validator("customer_update_cadence", mode="before")
    @classmethod
    def _cadence_shape(cls, value: object) -> object:
        return parse_cadence(value) if isinstance(value, str) else value

    @property
    def severities(self) -> tuple[str, ...]:
        return tuple(self.customer_update_cadence)

    def cadence(self, severity: str) -> timedelta:
        return self.customer_update_cadence[severity]

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Values that must never be written to a log or shown in an error."""
        return (
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
            self.slack_state_secret,
            self.smtp_password,
        )

    @property
    def smtp_password(self) -> str | None:
        password = urlsplit(self.smtp_url).password if self.smtp_url else None
        return unquote(password) if password else None

    @property
    def escalating_tier(self) -> str:
        """The tier whose running-out clock reminds the comms owner: the first listed."""
        return next(iter(self.customer_tiers))

    @property
    def oauth(self) -> bool:
        """Multi-workspace: installs through Bolt's OAuth flow instead of one bot token."""
        return self.slack_client_id is not None


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line that names the setting."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    _check_credentials(settings)
    if settings.default_severity not in settings.severities:
        raise ConfigError(
            f"DEFAULT_SEVERITY: {settings.default_severity} is not one of "
            f"{', '.join(settings.severities)} (from CUSTOMER_UPDATE_CADENCE)"
        )
    if settings.smtp_url and not settings.smtp_from:
        raise ConfigError("SMTP_FROM is not set: SMTP_URL needs the address mail comes from")
    _check_playbooks(settings)
    return settings


def _check_playbooks(settings: Settings) -> None:
    """A playbook that does not parse stops the start, naming the file and the field."""
    from bot.playbooks.loader import PlaybookError, load_configured  # it imports this module

    try:
        load_configured(settings)
    except PlaybookError as exc:
        raise ConfigError(f"PLAYBOOKS_DIR: {exc}") from None


def _check_credentials(settings: Settings) -> None:
    """One workspace (SLACK_BOT_TOKEN) or many (the OAuth trio), never neither or both."""
    if not settings.oauth:
        if settings.slack_bot_token is None:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: put it in the environment or in .env "
                "(or set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET to "
                "install in many workspaces through OAuth)"
            )
        return
    if settings.slack_bot_token is not None:
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: use the bot token for one "
            "workspace, or OAuth (client id, secret, state secret) for many, not both"
        )
    if settings.slack_app_token is not None:
        raise ConfigError(
            "SLACK_APP_TOKEN and SLACK_CLIENT_ID are both set: OAuth installs need the "
            "install pages of HTTP mode; unset SLACK_APP_TOKEN"
        )
    for name in ("slack_client_secret", "slack_state_secret"):
        if not getattr(settings, name):
            raise ConfigError(f"{name.upper()} is not set: OAuth (SLACK_CLIENT_ID) needs it")
    if len(str(settings.slack_state_secret)) < 16:
        raise ConfigError("SLACK_STATE_SECRET is malformed: use at least 16 random characters")


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
    if error["type"] == "missing":
        return f"{name} is not set: put it in the environment or in .env"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name} is malformed: {message}"
