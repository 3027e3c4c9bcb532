"""The CRM service's settings, read from `CRM_*` environment variables."""

from pydantic_settings import SettingsConfigDict

from shared_schemas.service import ServiceSettings

SERVICE_NAME = "crm-service"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.data/crm.db"
    port: int = 8001
    relay_metrics_port: int = 9101
    consumer_metrics_port: int = 9102
