"""Importers with provenance: ICE detainer releases and jail exports into a DuckDB-catalogued Parquet store.

Every imported row keeps its source file, sheet, row number, the file's sha256 and a hash of its raw cells.
Re-importing the same bytes is a no-op; a killed import leaves nothing visible; malformed rows are reported with
file, row and reason (``strict`` rejects the file; otherwise good rows load and a rejects file is written).
"""

from detainers.ingest._agreements import AgreementImport, AgreementImportError, read_agreement_lists
from detainers.ingest._ice import (
    DETAINER_COLUMNS,
    SENSITIVE_COLUMNS,
    DetainerLoad,
    Layout,
    LayoutError,
    detect_layout,
    load_detainers,
)
from detainers.ingest._jail import BOOKING_COLUMNS, CHARGE_COLUMNS, DEFAULT_VIOLENT_PATTERNS, JailLoad, load_jail
from detainers.ingest._mapping import (
    BOOKING_FIELDS,
    CHARGE_FIELDS,
    Mapping,
    MappingError,
    ReleaseReason,
    load_mapping,
)
from detainers.ingest._provenance import PROVENANCE_COLUMNS, atomic_path, file_sha256
from detainers.ingest._redaction import REDACTION_PATTERN, is_redaction, null_redactions
from detainers.ingest._store import TABLES, ImportRecord, ImportRejected, ImportReport, Store
from detainers.ingest._tabular import RawReject, RawTable, TableReadError, normalize_name, read_table

__all__ = [
    "AgreementImport",
    "AgreementImportError",
    "BOOKING_COLUMNS",
    "BOOKING_FIELDS",
    "CHARGE_COLUMNS",
    "CHARGE_FIELDS",
    "DEFAULT_VIOLENT_PATTERNS",
    "DETAINER_COLUMNS",
    "DetainerLoad",
    "ImportRecord",
    "ImportRejected",
    "ImportReport",
    "JailLoad",
    "Layout",
    "LayoutError",
    "Mapping",
    "MappingError",
    "PROVENANCE_COLUMNS",
    "REDACTION_PATTERN",
    "RawReject",
    "RawTable",
    "ReleaseReason",
    "SENSITIVE_COLUMNS",
    "Store",
    "TABLES",
    "TableReadError",
    "atomic_path",
    "detect_layout",
    "file_sha256",
    "is_redaction",
    "load_detainers",
    "load_jail",
    "load_mapping",
    "normalize_name",
    "null_redactions",
    "read_agreement_lists",
    "read_table",
]
