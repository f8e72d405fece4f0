"""Ways to score many articles: the local process pool, Ray Data and datatrove."""
