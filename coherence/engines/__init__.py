"""Ways to score many articles: the local process pool (`coherence batch`), Ray Data,
datatrove pipeline steps and Hugging Face `datasets`. Each starts from
`coherence.build.ready_detector` and writes the records of `coherence.io.schema`."""
