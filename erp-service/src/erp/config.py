"""The ERP service's settings, read from `ERP_*` environment variables."""

from pydantic_settings import SettingsConfigDict

from shared_schemas.service import ServiceSettings

SERVICE_NAME = "erp-service"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ERP_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.data/erp.db"
    port: int = 8002
    relay_metrics_port: int = 9201
    consumer_metrics_port: int = 9202
