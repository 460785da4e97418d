"""Live vacancies from the careers site's job feed.

feed.py (fetch, retry, cache) -> formats/ (one adapter per feed format, to model.Vacancy) ->
matching.py (index the feed; what the applicant asked for) -> messages.py (what fits in an
Instagram message) -> action.py (action_search_vacancies). service.py holds the one client per
process and runs it off the event loop; vocabulary.py reads data/vacancies/vocabulary.yml.
"""
