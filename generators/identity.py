"""What the handbook is called, who makes it, its licence and its notice to readers: in one place.

The build writes these into build/mkdocs.yml (site_name, copyright, extra.notice for the theme's
templates) and build/manifest.json (the PDF's cover and footers); the exports (cite files, open data,
the feed) import them. mkdocs.yml keeps only addresses and the theme.
"""

NAME = "IIM Evidence Handbook"
SUBTITLE = "An open, living evidence handbook on idiopathic inflammatory myopathies"
DESCRIPTION = f"{SUBTITLE}, for health professionals."
AUTHOR = f"{NAME} contributors"
NOTICE = "For health professionals. Not medical advice."
NOTICE_DETAIL = (
    "This handbook summarises published evidence; it does not replace clinical judgement, the product information or local guidance."
)
LICENCE = {"content": "CC-BY-4.0", "content_url": "https://creativecommons.org/licenses/by/4.0/", "code": "MIT"}
LICENCE_LABEL = "CC BY 4.0"  # the content licence as readers see it
COPYRIGHT = f"Content {LICENCE_LABEL} · Not medical advice · For health professionals"
FEED_TITLE = f"{NAME}: what's new"
DISCLAIMER = (  # the PDF's cover
    "This handbook summarises published evidence on idiopathic inflammatory myopathies for clinicians, "
    "trainees and researchers. It does not replace clinical judgement, the product information of any "
    "medicine, or local and national guidance. Doses are given as studied, not as recommendations."
)


def site_identity(site_url: str = "", repository: str = "") -> dict:
    """The identity as data, as build/manifest.json carries it to the steps after the build."""
    return {
        "name": NAME,
        "subtitle": SUBTITLE,
        "description": DESCRIPTION,
        "author": AUTHOR,
        "notice": NOTICE,
        "notice_detail": NOTICE_DETAIL,
        "licence": LICENCE,
        "licence_label": LICENCE_LABEL,
        "disclaimer": DISCLAIMER,
        "url": site_url,
        "repository": repository,
    }
