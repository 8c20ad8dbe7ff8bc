"""The wizard's step forms, one module per topic. They know nothing of the database: the generic step
view in ``portal.wizard`` fills them from the agreement and saves them to it."""
