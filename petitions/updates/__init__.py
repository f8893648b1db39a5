"""Updates for signers who opted in: "delivered" and "reply received" mails, and one-click unsubscribe."""
