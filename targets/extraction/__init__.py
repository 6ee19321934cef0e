"""Reading numeric targets and dated tasks out of a plan's text (issue 19). Pure: no network,
no models, no database. ``extract`` gives candidates with their spans; ``draft`` turns accepted
candidates into a plan file in the SPEC §4.1 shape; ``reading`` gets text out of TXT, DOCX and
PDF files."""

from .extractor import Extraction, extract
from .rules import Candidate

__all__ = ["Candidate", "Extraction", "extract"]
