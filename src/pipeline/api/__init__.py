"""What both HTTP APIs share: one router of error answers and guards (shared), the typed requests
(requests) and answers (models), and the headers every answer and page carries (web)."""
