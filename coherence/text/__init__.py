"""Text alone: sentence segmentation, word statistics, language, and the rule verdicts
(boilerplate, fragments, repeats) that need no model."""
