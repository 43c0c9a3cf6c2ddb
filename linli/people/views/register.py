"""Pages of the register: register. (Being written.)"""

urlpatterns: list = []
