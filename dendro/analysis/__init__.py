"""What the console shows and the local alert evaluator judges, computed from the store.

No web framework here: SQL text in Dendro's dialect (:mod:`~dendro.analysis.queries`), time
ranges and bins (:mod:`~dendro.analysis.ranges`), statistics (:mod:`~dendro.analysis.stats`:
baseline band, forecast, time to full), the home page's and the agents' summaries
(:mod:`~dendro.analysis.overview`) and the charts' data (:mod:`~dendro.analysis.charts`).
"""
