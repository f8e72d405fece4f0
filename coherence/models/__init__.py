"""Fitted models and their shipped weights: the intrusion model, the article-context model and
the extraction-leftover line model."""
