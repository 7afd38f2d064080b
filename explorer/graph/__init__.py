"""The relationship map without Qt: its graph (explorer.graph.model), a deterministic layout
(explorer.graph.layout) and what is drawn where (explorer.graph.scene). explorer.views.relationship_map
paints what they work out and takes the input.
"""
