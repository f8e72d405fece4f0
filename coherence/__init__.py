"""coherence: find the sentences that do not belong in a news article."""

from coherence.detector import Detector
from coherence.results import ArticleResult, SentenceResult
from coherence.thresholds import coherence_threshold, off_topic_threshold

__all__ = ["ArticleResult", "Detector", "SentenceResult", "coherence_threshold", "off_topic_threshold", "__version__"]
__version__ = "0.1.0"
