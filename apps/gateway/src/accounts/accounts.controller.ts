import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { AccountsService } from './accounts.service';

/** HTTP adapter of the account service; bodies are validated inside the service. */
@Controller('api/auth')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('register')
  @HttpCode(201)
  register(@Body() body: unknown) {
    return this.accounts.register(body);
  }

  @Post('login')
  @HttpCode(200)
  login(@Body() body: unknown) {
    return this.accounts.login(body);
  }
}
