from collections.abc import Sequence

def md5_join(
    columns: Sequence[tuple[int, int, object, object, tuple[object, ...]]],
    rows: int,
    sep: bytes,
    out: object,
    lanes: bool = True,
    /,
) -> None: ...
def simd() -> bool: ...
