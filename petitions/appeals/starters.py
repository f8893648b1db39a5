"""Built-in starting points for new appeals, pre-structured with placeholders."""

BUILTIN = {
    "prisoner": {
        "name": "Appeal for the release of a prisoner",
        "content": {
            "title": "Release [full name of the prisoner]",
            "subject": "Detention of [name], [profession], since [date]",
            "addressees": [{"name": "[Name of the official]", "title": "[Position]",
                            "institution": "[Institution]", "salutation": "Dear [title and name],"}],
            "body": ("We, the undersigned [lawyers, journalists, civil society organizations], write to you about "
                     "[name], who has been held since [date] on charges of [charges].\n\n"
                     "[Describe the arrest, the conditions of detention and the procedural violations: access to a "
                     "lawyer, to medical care, to family visits.]\n\n"
                     "[Explain why the case matters beyond the person: the pattern it belongs to.]"),
            "demands": ["Release [name] immediately and unconditionally.",
                        "Until then, guarantee access to a lawyer of their choice and to independent medical care.",
                        "Investigate the allegations of ill-treatment and hold those responsible to account."],
            "closing": "We thank you for your attention and remain at your disposal.\n\nRespectfully,",
            "place": "[City]",
            "senders": "[Coalition or organization name]",
        },
    },
    "institution": {
        "name": "Open letter to an international institution",
        "content": {
            "title": "Open letter to [institution] on [topic]",
            "subject": "[Topic] ahead of [meeting, session or visit]",
            "addressees": [{"name": "[Secretary General / Rapporteur / Commissioner]", "institution": "[Institution]",
                            "postal_address": "[Postal address]", "salutation": "Dear [title],"}],
            "body": ("On the occasion of [event], we address you about [topic].\n\n"
                     "[State the facts with dates and sources.]\n\n"
                     "[Recall the obligations the state has accepted: treaties, judgments, commitments.]"),
            "demands": ["Raise [topic] publicly during [event].",
                        "Request information from the authorities on [specific cases].",
                        "Report back on the steps taken within [time]."],
            "closing": "Yours sincerely,",
            "place": "[City]",
            "senders": "[Organizations sending the letter, one per line]",
        },
    },
    "statement": {
        "name": "Joint statement with demands",
        "content": {
            "title": "Joint statement: [topic]",
            "subject": "",
            "addressees": [{"name": "[Government, parliament or public]"}],
            "body": ("We, the undersigned organizations and individuals, [condemn / express concern about] "
                     "[event] of [date].\n\n[Context in two or three short paragraphs.]"),
            "demands": ["[First demand]", "[Second demand]", "[Third demand]"],
            "closing": "",
            "place": "",
            "senders": "",
        },
    },
}
