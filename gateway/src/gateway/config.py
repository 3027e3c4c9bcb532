"""The gateway's settings, read from `GATEWAY_*` environment variables."""

from pydantic_settings import SettingsConfigDict

from shared_schemas.service import ServiceSettings

SERVICE_NAME = "gateway"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.data/gateway.db"
    port: int = 8000
    crm_url: str = "http://127.0.0.1:8001"
    erp_url: str = "http://127.0.0.1:8002"
