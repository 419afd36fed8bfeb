"""The public site's views, by what they serve.

``ticket``: submitting and following a ticket (the manual's screens);
``pages``: the information pages; ``limits``: the rate-limit decorators, the 429 page
and the alert on tracking-ID guessing, which wrap the views in ``ticket``;
``staff``: the staff's second-factor and sign-in pages, served by the admin site.
"""
