"""Where a page of the site is served: shared by the build and by the steps after it, which read only build/."""


def url_path(page: str) -> str:
    """A generated page's URL below the site root: therapies/ivig.md -> therapies/ivig/."""
    if page == "index.md":
        return ""
    if page.endswith("/index.md"):
        return page[: -len("index.md")]
    return page[: -len(".md")] + "/" if page.endswith(".md") else page
