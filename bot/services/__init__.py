"""Services the commands call: they join the recommender and the store, and know nothing of Discord."""
