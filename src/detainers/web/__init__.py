"""The web desk: server-rendered pages over the detainer desk service, signed in with the same tokens and roles."""

from detainers.web._app import app_from_env, create_app, mount_web
from detainers.web._pages import WebSettings

__all__ = ["WebSettings", "app_from_env", "create_app", "mount_web"]
