"""toolkit: scraped news articles → Label Studio tasks → versioned Hugging Face datasets."""

__version__ = "0.1.0"
