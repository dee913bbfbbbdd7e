"""detainers: immigration detainers between ICE and local jails, decided by the law as written."""

__version__ = "0.1.0"

__all__ = ["__version__"]
