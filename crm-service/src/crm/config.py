"""The CRM service's settings, read from `CRM_*` environment variables (company-wide ones
from `COMPANY_*`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared_schemas.service import ServiceSettings

SERVICE_NAME = "crm-service"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.data/crm.db"
    port: int = 8001
    relay_metrics_port: int = 9101
    consumer_metrics_port: int = 9102
    # Hours from opening to the SLA due time, per inquiry priority.
    sla_hours: dict[str, int] = Field(
        default_factory=lambda: {"low": 72, "normal": 24, "high": 8, "urgent": 2}
    )
    # Days a quote stays valid when it does not say (valid_until = today + this).
    quote_validity_days: int = Field(default=30, ge=1, le=365)
