"""The interface language in a browser test: the footer's switch, and the `lang` of <html> per language."""

from __future__ import annotations

#: The `lang` attribute of <html> per interface language.
HTML_LANG = {"en": "en", "zh": "zh-CN"}
#: A browser context's `locale` (and so its Accept-Language) for a visitor who reads that language.
BROWSER_LOCALE = {"en": "en-GB", "zh": "zh-CN"}


def set_language(page, code: str) -> None:
    """Choose the interface language with the switch in the page's footer, as a person would.

    Signed in, the switch also saves the choice on the person's settings; the page comes back in the
    same place, in that language.
    """
    from playwright.sync_api import expect

    button = page.locator(f'form.language-switch button[name="lang"][value="{code}"]')
    if button.get_attribute("aria-current") != "true":
        with page.expect_navigation():
            button.click()
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[code])
