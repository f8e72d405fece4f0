"""Evidence measured inside one article: each sentence's fit to the article's topic and each
line's form, place and repetition on its page."""
