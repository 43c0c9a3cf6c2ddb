"""Pages of the register: mine. (Being written.)"""

urlpatterns: list = []
