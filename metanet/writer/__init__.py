"""The writer: a message-passing meta-network that writes complete weight sets, and :func:`generate`."""

from metanet.writer.generate import Generated, GenerationReport, generate
from metanet.writer.model import Writer

__all__ = ["Writer", "generate", "Generated", "GenerationReport"]
