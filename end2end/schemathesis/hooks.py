"""schemathesis hooks (SCHEMATHESIS_HOOKS): uploads are real photos.

The document says `primary_image` is a binary file and the server decodes it: random bytes
are schema-valid yet no photo, so generated uploads are small real PNG images instead.
"""

import struct
import zlib

import schemathesis
from hypothesis import strategies as st


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


schemathesis.openapi.format(
    "binary",
    st.builds(
        png,
        st.integers(1, 64),
        st.integers(1, 64),
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    ),
)

