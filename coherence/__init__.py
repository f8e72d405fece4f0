"""coherence: find the sentences that do not belong in a news article."""

from coherence.detector import Detector
from coherence.results import ArticleResult, SentenceResult

__all__ = ["ArticleResult", "Detector", "SentenceResult", "__version__"]
__version__ = "0.1.0"
